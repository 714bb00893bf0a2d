/** This action's version, written into every verification report it attaches (a unit test keeps it equal to package.json's). */
export const ACTION_VERSION = '1.0.0';

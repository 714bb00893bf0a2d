/** Keys of the state the main step hands to the post step. */
export const STATE = { label: 'container-label' };

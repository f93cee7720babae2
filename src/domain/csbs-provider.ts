/** The CSBS backup provider, present in every store. */
export const CSBS_PROVIDER = { id: "fc4d5750-22e7-4798-8a46-f48f62c4c1da", name: "CSBS" } as const;

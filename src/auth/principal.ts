/** Who is calling, as a verified token says. */
export interface Principal {
  subject: string;
  /** The one project the token is scoped to. */
  projectId: string;
  roles: ReadonlyArray<string>;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
}

/** The role that may write the inventory. */
export const ADMIN_ROLE = "csbs_admin";

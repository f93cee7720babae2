/** A canonical UUID (8-4-4-4-12 hex digits, either case), as a pattern source (also for OpenAPI). */
export const UUID_SOURCE = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/** A project id: 1-64 characters of [A-Za-z0-9-]. */
export const PROJECT_ID_SOURCE = "^[A-Za-z0-9-]{1,64}$";

export const UUID = new RegExp(UUID_SOURCE);
export const PROJECT_ID = new RegExp(PROJECT_ID_SOURCE);

/**
 * Every HTTP status the REST tests produce on the action path, with the error code each
 * error status carries. test/rest-errors.test.ts asserts every status it sees is listed
 * here; test/openapi.test.ts asserts every one listed is documented in /openapi.json.
 */
export const REST_STATUSES = {
  200: "",
  400: "CSBS.9001",
  401: "APIGW.0301",
  403: "APIGW.0302",
  404: "APIGW.0101",
  413: "CSBS.9001",
  415: "CSBS.9001",
  500: "CSBS.9999",
  503: "CSBS.9998",
} as const;

export type RestStatus = keyof typeof REST_STATUSES;

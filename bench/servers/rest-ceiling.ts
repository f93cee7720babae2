/**
 * REST ceiling: a bare Express 5 route on the service's path that parses the same JSON body
 * and returns a canned answer (the service's answer for that request). No auth, no store.
 */
import "./timing-hook.js";
import express from "express";
import { cannedAnswer, FAILING, RESTORABLE } from "../lib/fixtures.js";

const answers = new Map(
  [RESTORABLE, FAILING].map((c) => [c.request.checkpoint_item_id, cannedAnswer([c]).json] as const),
);
const fallback = cannedAnswer([RESTORABLE]).json;

const app = express();
app.disable("x-powered-by");
app.disable("etag");
app.post(
  "/v1/:project_id/providers/:provider_id/resources/action",
  express.json({ limit: "1mb" }),
  (req: express.Request, res: express.Response) => {
    const body = req.body as { check_restorable?: { checkpoint_item_id?: string }[] };
    const id = body.check_restorable?.[0]?.checkpoint_item_id ?? "";
    res.type("application/json").send(answers.get(id) ?? fallback);
  },
);
app.listen(Number(process.env.PORT), "127.0.0.1");

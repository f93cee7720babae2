import { ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import type { CallGuard, GuardedServiceImpl } from "./call-guard.js";
import { checkProtectable } from "./check-protectable.js";
import { checkRestorable } from "./check-restorable.js";
import type { UseCaseDeps } from "./use-case-deps.js";

export { ResourceService };

export interface ResourceServiceOptions extends UseCaseDeps {
  guard: CallGuard;
}

/**
 * The ResourceService for the RPC hosts (grpc-js, Connect, gRPC-Web): each RPC is its
 * transport-free use case behind the shared call guard.
 */
export function createResourceService(options: ResourceServiceOptions): GuardedServiceImpl<typeof ResourceService> {
  const { guard, ...deps } = options;
  return {
    checkRestorable: (req, ctx) => guard.run(ctx, req.projectId, undefined, () => checkRestorable(deps, req)),
    checkProtectable: (req, ctx) => guard.run(ctx, req.projectId, undefined, () => checkProtectable(deps, req)),
  };
}

# syntax=docker/dockerfile:1
# The restorability service: gRPC on 50051, HTTP (REST, Connect, gRPC-Web, probes) on 8080.
# Multi-stage: the build stage compiles with dev dependencies; the runtime stage has the
# production dependencies and dist/ only, runs as the non-root user `node`, with node as
# PID 1 handling SIGTERM itself (drain, then exit 0; see docs/deploy.md).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY gen ./gen
COPY bench ./bench
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    GRPC_PORT=50051 \
    DATABASE_URL=/data/restorability.db
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 50051
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Auth is required: set AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL at run time.
CMD ["node", "--max-old-space-size=96", "dist/server.mjs"]

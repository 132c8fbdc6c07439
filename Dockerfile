# syntax=docker/dockerfile:1
# One image build for all six services; SERVICE picks the one the container runs:
#   docker build --build-arg SERVICE=identity -t vivified/identity .
# docker-compose.yml builds it once per service with the same cached stages.

ARG NODE_IMAGE=node:20-bookworm-slim

# Only the package manifests, so the dependency layers below are rebuilt when a manifest changes, not on
# every source edit. (COPY with a glob would flatten libs/*/package.json into one folder.)
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && cp package-lock.json .npmrc /out/ \
 && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /out/ \;

# Everything installed, everything compiled (tsc -b tsconfig.build.json).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir /out \
 && for project in libs/* apps/*; do \
      [ -f "$project/package.json" ] || continue; \
      mkdir -p "/out/$project"; \
      cp "$project/package.json" "/out/$project/"; \
      for folder in dist migrations; do \
        if [ -d "$project/$folder" ]; then cp -r "$project/$folder" "/out/$project/"; fi; \
      done; \
    done

# Production dependencies only; workspace packages are symlinks into libs/ and apps/.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=32" \
    VIVIFIED_SERVICE=${SERVICE} \
    VIVIFIED_HTTP_HOST=0.0.0.0
RUN groupadd --system --gid 10001 vivified \
 && useradd --system --uid 10001 --gid vivified --no-create-home --shell /usr/sbin/nologin vivified
WORKDIR /app
# Owned by root and read-only to the service user: a compromised service cannot rewrite its own code.
COPY --from=prod-deps /app/package.json /app/package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /out/ ./
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
RUN case "$VIVIFIED_SERVICE" in \
      identity|policy|registry|audit|gateway|event-router) ;; \
      *) echo "build with --build-arg SERVICE=identity|policy|registry|audit|gateway|event-router" >&2; exit 1 ;; \
    esac \
 && test -f "apps/$VIVIFIED_SERVICE/dist/main.js"
# The one writable place: the key-encryption key file when VIVIFIED_KEK is not given (see docs/crypto.md).
RUN mkdir -p /var/lib/vivified && chown 10001:10001 /var/lib/vivified && chmod 700 /var/lib/vivified
# Numeric, so Kubernetes' runAsNonRoot can verify it: the `vivified` user created above.
USER 10001:10001
# Ops ports (/health, /metrics): identity 9101 … gateway 9106; the gateway's HTTP API on 8080.
EXPOSE 8080 9101 9102 9103 9104 9105 9106
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
CMD ["sh", "-c", "exec node apps/$VIVIFIED_SERVICE/dist/main.js"]

# syntax=docker/dockerfile:1
# AI Hub container image: build with dev dependencies, run with production dependencies only.
#   docker build -t aihub .
#   docker run -p 3000:3000 -v aihub-data:/data aihub
# Node 22 is the active LTS line; the code also runs on Node 20.19+ and 24.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source where no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts off for the install (the `prepare` build needs the sources, copied below); the native addon is
# built explicitly.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/prune-image.mjs node_modules

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini reaps zombies and forwards SIGTERM to node, which drains in-flight requests and flushes usage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown node:node /data
WORKDIR /app
ENV NODE_ENV=production \
    AIHUB_DATA_DIR=/data \
    PORT=3000 \
    HOST=0.0.0.0
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/node_modules ./node_modules
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# The same node flags as `npm start` (see package.json), without the build step: the image is built.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=16", "bin/aihub.js", "start"]

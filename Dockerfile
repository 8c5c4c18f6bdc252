# syntax=docker/dockerfile:1
# Build on the current Node LTS (`lts` tag; pin a digest for releases); the runtime image
# holds only production deps and compiled JS.
FROM node:lts-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:lts-slim AS runtime
# V8 heap settings and glibc's mmap threshold: the same as package.json's config.nodeArgs
# and config.mallocEnv (a test checks); see docs/performance.md. Override NODE_OPTIONS to fit a container's memory limit.
ENV NODE_ENV=production PORT=3000 \
  NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=512" \
  MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY openapi.yaml ./openapi.yaml
COPY schema ./schema
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --init-like signal handling: node is PID 1, the server handles SIGTERM via close-with-grace.
CMD ["node", "--enable-source-maps", "dist/server.js"]

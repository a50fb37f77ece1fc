# syntax=docker/dockerfile:1
# One image for the three processes; the command selects the role (docker-compose.yml sets it per
# service, the same paths as the package.json start:* scripts):
#   node dist/src/api/main.js | dist/src/sqs-bridge/main.js | dist/src/worker/main.js
# Build: docker build -t leafresh-feedback-orchestrator .
# The development tools (vLLM simulator, BE double) are the `dev-tools` target, not in that image:
#   docker build --target dev-tools -t leafresh-feedback-orchestrator-dev-tools .
# Debian slim, not Alpine: the Temporal worker's native core (@temporalio/core-bridge) ships glibc
# binaries only.

# --- build: TypeScript to dist/ and the prebuilt workflow bundles dist/workflow-bundle{,-tracing}.js, once ---
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY dev ./dev
COPY scripts ./scripts
RUN npm run build

# --- production dependencies only (no TypeScript, jest, linters) ---
FROM node:20.20.2-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- development tools: the product's code and dev/ (compose's vllm-simulator service) ---
FROM node:20.20.2-bookworm-slim AS dev-tools
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/dev ./dist/dev
COPY package.json ./
USER 1000:1000
CMD ["node", "dist/dev/vllm-simulator/main.js"]

# --- runtime: the product (the default target, last) ---
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
COPY --from=build /app/dist/workflow-bundle-tracing.js ./dist/workflow-bundle-tracing.js
# Creates the queue layout on AWS or an emulator: node dist/scripts/create-queues.js <prefix>
COPY --from=build /app/dist/scripts/create-queues.js ./dist/scripts/create-queues.js
COPY package.json ./
# The image's unprivileged `node` user, numeric so that runAsNonRoot-style checks can verify it; the
# app only reads its files.
USER 1000:1000
CMD ["node", "dist/src/api/main.js"]

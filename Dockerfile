# Build the real binary with cgo (the SQLite driver is C) on Go 1.27.3 (1.26.8 has standard-
# library vulnerabilities), then run it as a non-root user on a slim image, with the database on
# a volume.
#
# The two base images are build arguments only so that a machine that cannot reach an image
# registry can build this same file on stand-ins made from Debian's own packages
# (.ci/container makes them with debootstrap and the Go toolchain module); everywhere else the
# defaults, the official images, are used.
ARG GO_IMAGE=golang:1.27.3-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -buildvcs=true: the build context has .git (not in .dockerignore) and the image has git, so
# "renewals version" names the revision; the build fails rather than ship an unstamped binary.
# Only the binary reaches the final image.
RUN CGO_ENABLED=1 go build -buildvcs=true -trimpath -ldflags="-s -w" -o /out/renewals ./cmd/renewals

FROM ${BASE_IMAGE}
# One layer: CA certificates (SMTP over TLS, GOV.UK Pay), and the service's own user and group,
# both 10001, owning the data directory.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --system --gid 10001 renewals \
 && useradd --uid 10001 --gid 10001 --no-create-home --no-log-init --home-dir /data --shell /usr/sbin/nologin renewals \
 && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /out/renewals /usr/local/bin/renewals
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# RENEWALS_BASE_URL (the public address, used in emails and for Secure cookies) has no sensible
# default here: set it when running the image (see the README's Docker section).
ENV RENEWALS_ADDR=0.0.0.0:8080 \
    RENEWALS_DATABASE_URL=/data/renewals.db
EXPOSE 8080
# "renewals healthcheck" asks /healthz on RENEWALS_ADDR, so it follows the address the server
# listens on: change the port with -e RENEWALS_ADDR=0.0.0.0:9000 and the check follows.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["renewals", "healthcheck"]
# serve stops on SIGTERM (docker stop's signal); the binary is PID 1 and handles it itself.
ENTRYPOINT ["renewals"]
CMD ["serve"]

# Build the real binary with cgo (the SQLite driver is C) on Go 1.27.3 (1.26.8 has standard-
# library vulnerabilities), then run it as a non-root user on a slim image, with the database on
# a volume.
FROM golang:1.27.3-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -buildvcs=true: the build stage has .git (not in .dockerignore) and git, so "renewals version"
# names the revision; the build fails rather than ship an unstamped binary. Only the binary
# reaches the final image.
RUN CGO_ENABLED=1 go build -buildvcs=true -trimpath -ldflags="-s -w" -o /out/renewals ./cmd/renewals

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin renewals \
 && mkdir -p /data && chown renewals:renewals /data
COPY --from=build /out/renewals /usr/local/bin/renewals
USER renewals
WORKDIR /data
VOLUME ["/data"]
ENV RENEWALS_ADDR=0.0.0.0:8080 \
    RENEWALS_DATABASE_URL=/data/renewals.db
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["renewals", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["renewals"]
CMD ["serve"]

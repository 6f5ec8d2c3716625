# syntax=docker/dockerfile:1
# Multi-stage build of the mcpguard gateway: a Rust builder, then a distroless runtime (~30 MB).
#
#   docker build -t mcpguard .
#   docker run --rm -p 8080:8080 -v $PWD/mcpguard.toml:/etc/mcpguard/mcpguard.toml:ro mcpguard
#
# io_uring: Docker's default seccomp profile denies io_uring_setup/enter/register. mcpguard then
# falls back to its epoll driver by itself (driver = "auto"; the log line "worker listening ...
# driver=epoll" says so). To run on io_uring, start the container with the profile shipped here:
#   docker run --security-opt seccomp=deploy/seccomp-mcpguard.json ...
# It is an allow-list of the syscalls mcpguard makes (both drivers), io_uring's three included.
# In the container the config must listen on 0.0.0.0 (server.listen = "0.0.0.0:8080").

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin mcpguard && strip target/release/mcpguard

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/mcpguard /usr/local/bin/mcpguard
COPY --from=build /src/src/config/starter.toml /etc/mcpguard/mcpguard.toml
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/mcpguard"]
CMD ["run", "--config", "/etc/mcpguard/mcpguard.toml", "--listen", "0.0.0.0:8080"]

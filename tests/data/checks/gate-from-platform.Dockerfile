ARG API_KEY=1
from --platform=${TARGETPLATFORM} ${BASE} AS final
env VERSION=1
ARG GOPATH=${W:-x}
FROM --platform=$TARGETPLATFORM golang:${GO} AS build
STOPSIGNAL SIGTERM
ONBUILD CMD echo
WORKDIR ~
EXPOSE 80/TCP
MAINTAINER me
from --platform=${TARGETPLATFORM} build as Build
env FOO=1
run true
ENV BAR=x BUILDPLATFORM=$BAR
Run true
EXPOSE $GOPATH
COPY --chown=$HOME a /b
FROM build AS final
WORKDIR ./x
RUN --mount=type=cache,target=/c$GOPATH true

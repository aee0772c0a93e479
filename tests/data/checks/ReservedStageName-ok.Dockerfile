FROM alpine AS scratchpad
FROM alpine AS my-context
FROM scratch

ARG EMPTY
FROM alpine AS Build
CMD echo a
FROM alpine:$UNDECLARED_TAG AS two
FROM $EMPTY AS three
FROM --platform=$BUILDPLATFORM alpine AS four

FROM alpine AS base
CMD echo a
ENTRYPOINT echo b
FROM base AS json
CMD ["echo", "a"]
ENTRYPOINT ["echo"]
FROM alpine AS withshell
SHELL ["/bin/sh", "-c"]
CMD echo a
FROM withshell
ENTRYPOINT echo inherited
FROM alpine
HEALTHCHECK CMD echo a
cmd echo lower

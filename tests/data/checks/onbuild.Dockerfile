FROM alpine AS base
ONBUILD ENV A 1
ONBUILD CMD echo a
onbuild RUN true
FROM base
ENV B 2

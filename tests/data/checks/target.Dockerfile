FROM alpine AS unused
ENV A 1
CMD echo a
MAINTAINER x
FROM alpine AS used
ENV B 2
FROM used AS final
WORKDIR rel

# check=skip=all
FROM alpine AS Build
CMD echo a
MAINTAINER x

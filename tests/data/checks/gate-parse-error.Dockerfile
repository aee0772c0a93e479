FROM alpine AS Build
CMD echo a
RUN echo \

  b
COPY onlyone
MAINTAINER x
FROM alpine AS Other

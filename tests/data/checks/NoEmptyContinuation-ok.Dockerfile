FROM alpine
RUN echo a \
    b

RUN echo c \
# comment only
    d

FROM alpine
RUN echo a \

    b \

    c
RUN echo ok

RUN echo d \
# a comment

    e
COPY <<EOF /x \

  /y
hello
EOF

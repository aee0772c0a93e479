FROM alpine
ENV A 1
ENV B=2
LABEL maintainer me
LABEL ok=yes
env lower value
label Lower value
ENV C=3 D=4

FROM alpine
EXPOSE 80/tcp 53/udp 443 8000-8010/sctp

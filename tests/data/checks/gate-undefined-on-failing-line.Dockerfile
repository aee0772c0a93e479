FROM alpine
ENV A 1
ADD --checksum=sha256:$UNDEFINED_SUM https://example.com/f /f
ENV B 2

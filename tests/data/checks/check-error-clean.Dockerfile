# check=error=true
FROM alpine
ENV A=1
CMD ["echo", "a"]

# check=skip
FROM alpine

FROM alpine
run true

arg BASE=alpine
FROM alpine
run echo a
copy . /x
Run echo b
RUN echo c
FROM alpine
workdir /a

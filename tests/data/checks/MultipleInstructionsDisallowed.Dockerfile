FROM alpine AS one
CMD ["a"]
CMD ["b"]
CMD ["c"]
ENTRYPOINT ["x"]
ENTRYPOINT ["y"]
HEALTHCHECK CMD ["true"]
HEALTHCHECK NONE
FROM one AS two
CMD ["d"]
FROM alpine
cmd ["e"]
CMD ["f"]

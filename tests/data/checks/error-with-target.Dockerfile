FROM alpine AS broken
ENV X 1
COPY --from=later /a /b
ENV Y 2
FROM alpine AS later
ENV Z 3
CMD echo z

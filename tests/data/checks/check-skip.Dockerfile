# check=skip=JSONArgsRecommended,StageNameCasing
FROM alpine AS Build
CMD echo a
ENV A 1

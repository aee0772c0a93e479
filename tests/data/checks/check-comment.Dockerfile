FROM alpine
# check=skip=LegacyKeyValueFormat
ENV A 1
ENV B 2
# some words
# check=skip=JSONArgsRecommended more words
CMD echo a
# check=skip=MaintainerDeprecated
MAINTAINER x

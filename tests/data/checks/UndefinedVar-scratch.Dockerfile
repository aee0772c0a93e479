FROM scratch AS s
ENV PATH=/custom
COPY $PATH /x
ENV A=1
ENV B=$A
LABEL "key $A"="$B $UNDEF1" other=$UNDEF2
COPY --from=s $NOTFROM /y
COPY --chmod=$MODE a /z
FROM s
ONBUILD COPY $ONB /x
FROM 1
COPY $ONB2 /q

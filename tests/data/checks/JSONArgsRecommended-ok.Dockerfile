FROM alpine
CMD ["echo", "a"]
ENTRYPOINT ["sh", "-c", "echo"]
RUN echo shell-form is fine
HEALTHCHECK CMD echo ok

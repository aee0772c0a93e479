FROM --platform=windows/amd64 mcr.microsoft.com/windows/nanoserver:ltsc2022 AS win
WORKDIR C:\\app
COPY $PTH /x
FROM alpine AS lin
WORKDIR C:\\app

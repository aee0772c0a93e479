FROM alpine AS one
from alpine as two
From alpine AS three

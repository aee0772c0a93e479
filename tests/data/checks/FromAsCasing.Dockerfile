FROM alpine as one
from alpine AS two
FROM alpine AS three
from alpine as four
From alpine as five
FROM alpine As six

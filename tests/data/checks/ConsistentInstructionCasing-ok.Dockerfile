from alpine
run true
arg X

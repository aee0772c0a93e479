# escape=`
FROM alpine
RUN a `
   
  b
RUN c `


  d `

  e

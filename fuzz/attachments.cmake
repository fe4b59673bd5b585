# Fuzz targets of Safe Attachments' in-house parsers (issue 9).
foreach(t ole2 ooxml pdf rtf html mime ipc)
  mailmoat_fuzz_target(attachment_${t} SOURCES fuzz/attachment_${t}.cpp DEPENDS mailmoat_attachments)
endforeach()

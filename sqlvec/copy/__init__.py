"""COPY: options, the text / csv / binary formats in both directions, and the streams the wire
layer drives (`copy_in.CopyIn` for FROM STDIN, `copy_out.CopyOut` for TO STDOUT)."""

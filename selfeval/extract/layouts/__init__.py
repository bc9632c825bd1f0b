"""One module per text layout of a form's table: each turns a form's lines into rows of cells."""

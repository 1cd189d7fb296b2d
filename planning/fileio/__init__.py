"""Reading and writing planning grids as CSV and XLSX files (INT-20..23)."""

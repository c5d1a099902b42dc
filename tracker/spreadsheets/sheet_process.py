"""Read the first sheet of a workbook with calamine, in a process of its own.

Run as a script (`python -I sheet_process.py PATH MAX_ROWS MEMORY_BYTES CPU_SECONDS`), never
imported by the app: it imports nothing but the standard library and python_calamine, so it
starts in a fraction of a second.

Why a process: calamine holds a sheet as one dense range of cells, as wide and as tall as
its farthest cell. A workbook of a few kilobytes can name a cell in the last row and column
(a 5 KB .xls asks for 1 GB; a 2 KB .xlsx for 100 GB, and the allocator then aborts the whole
process). Here the address space and the CPU time are capped before the file is opened, so
such a file ends this process, not the web worker, and the reader reports it in one
sentence.

What it writes to stdout, each a pickled tuple:
  ("rows", [(excel_row_number, values), ...])  in file order, up to 2,000 at a time
  ("error", code, detail)                      code: "unreadable", "no_sheet", "too_many_rows"
  ("end",)
Values are what openpyxl gives: None for an empty cell, int for a whole number, float, str,
bool, date, datetime, time or timedelta.
"""

import pickle
import resource
import sys

BATCH = 2000
EXACT = 2**53  # beyond this a float no longer holds every integer


def _value(value):
    if value == "":
        return None
    if type(value) is float and value.is_integer() and -EXACT < value < EXACT:
        return int(value)
    return value


def main(path: str, max_rows: int, memory: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    out = sys.stdout.buffer

    def send(message) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        import python_calamine

        # From the bytes, not the path: calamine would judge a path by its extension, and
        # uploads are stored under names of our own.
        with (
            open(path, "rb") as handle,
            python_calamine.CalamineWorkbook.from_filelike(handle) as workbook,
        ):
            if not workbook.sheet_names:
                send(("error", "no_sheet", ""))
                return
            sheet = workbook.get_sheet_by_index(0)
            first_row = sheet.start[0] if sheet.start else 0
            last_row = sheet.end[0] + 1 if sheet.end else 0
            if last_row > max_rows:
                send(("error", "too_many_rows", str(last_row)))
                return
            batch = []
            for index, values in enumerate(sheet.iter_rows()):
                batch.append((first_row + index + 1, tuple(map(_value, values))))
                if len(batch) == BATCH:
                    send(("rows", batch))
                    batch = []
            if batch:
                send(("rows", batch))
    except MemoryError:
        send(("error", "too_large", ""))
        return
    except Exception as error:  # noqa: BLE001  (calamine raises its own kinds; say which)
        send(("error", "unreadable", type(error).__name__))
        return
    send(("end",))
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))

"""How the two PCAM classes are named and coloured in every figure."""

CLASS_NAMES = ("normal (0)", "tumour (1)")
CLASS_COLORS = ("tab:blue", "tab:red")

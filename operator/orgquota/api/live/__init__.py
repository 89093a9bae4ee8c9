"""The live page's event stream (SPEC §11): what a caller may see, pushed when the API's memory changes."""

"""Reading a resident's screenshot: its text (OCR), the app error it shows, and whether it shows something private.

Residents often send a photo of their phone screen instead of typing the error. Three pure pieces, each tested alone:
`ocr` turns image bytes into text (refusing what is not a readable image), `errors` finds the knowledge entry whose
app message the text shows, `sensitive` says whether the screen shows an ID card, a bank card or an OTP, in which
case the caller warns the resident and keeps nothing. Action-server side; imports only bot.knowledge and bot.core.text.
"""

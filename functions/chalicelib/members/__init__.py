"""Members (会员): profile, saved addresses, marketing consent, the QR codes members come
through, export and deletion of a member's data, the admin member list. The member item
itself is identity's CustomerModel (table ``customers``)."""

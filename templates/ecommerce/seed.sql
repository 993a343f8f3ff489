-- Reference data: the same in every cell.
INSERT INTO products (id, name, price_cents) VALUES
  ('sku-keyboard', 'Mechanical keyboard', 8900),
  ('sku-mouse', 'Wireless mouse', 2900),
  ('sku-monitor', '27" monitor', 24900),
  ('sku-cable', 'USB-C cable', 900),
  ('sku-stand', 'Laptop stand', 3900),
  ('sku-headset', 'Headset', 5900);

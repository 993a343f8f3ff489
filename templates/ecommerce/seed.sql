-- Reference data: the same in every cell.
INSERT INTO products (product_id, name, description, price_cents, inventory_count) VALUES
  ('sku-keyboard', 'Mechanical keyboard', 'Tenkeyless, brown switches', 8900, 250),
  ('sku-mouse', 'Wireless mouse', 'Two buttons and a wheel', 2900, 800),
  ('sku-monitor', '27" monitor', '2560x1440, 75 Hz', 24900, 60),
  ('sku-cable', 'USB-C cable', '1 m, 60 W', 900, 5000),
  ('sku-stand', 'Laptop stand', 'Aluminium, adjustable', 3900, 300),
  ('sku-headset', 'Headset', 'Closed-back, with microphone', 5900, 150);
